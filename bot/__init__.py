"""Lumi's domain: plain Python with no Rasa imports, tested without a model."""

"""rasa_sdk actions: one small module per capability, thin adapters over ``bot/``."""

"""Scale-out test: Rasa replicas behind nginx with shared Redis stores (``python -m scale.run``)."""

"""Training: config, data, models, evaluation and MLflow tracking for the VN–China topic tagger."""

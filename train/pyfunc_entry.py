"""MLflow models-from-code entry: the logged pyfunc model is `TaggerPyfunc` (train/tracking.py)."""

from mlflow.models import set_model

from train.tracking import TaggerPyfunc

set_model(TaggerPyfunc())

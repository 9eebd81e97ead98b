"""MLflow models-from-code entry: the logged pyfunc model is `TaggerPyfunc` (vnzh_runtime/pyfunc.py)."""

from mlflow.models import set_model

from vnzh_runtime.pyfunc import TaggerPyfunc

set_model(TaggerPyfunc())

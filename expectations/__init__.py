"""Great Expectations suites and their runner."""

import warnings

# Great Expectations imports pyspark whenever it is installed (the `spark` extra); pyspark then warns about
# pandas 3 on every import, although the suites here never run on Spark.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

"""CDK stacks and constructs of Patronus Cloud.

The stacks take the facts that the Lambda code owns from that code: the routes and the roles of
the API, the metrics namespace, the schema migrations. Importing this package makes the layer's
``patronus`` package and the api function's ``patronus_api`` importable (their dependencies are
in requirements.txt).
"""

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
for _folder in (_REPO / "layers" / "patronus" / "python", _REPO / "functions" / "api"):
    if str(_folder) not in sys.path:
        sys.path.append(str(_folder))

"""Start the local stack (``scripts.run_local``) for the hardening suite.

Identical to ``python -m scripts.run_local`` except that SeaweedFS's Lance listener gets a free
port like every other SeaweedFS port: by default it binds the fixed port 9101, so two SeaweedFS
instances on one machine (the suite's own, another test's) race for it and the loser exits.
"""

from __future__ import annotations

import sys

from tests.hardening.servers import give_lance_a_free_port

if __name__ == "__main__":
    give_lance_a_free_port()
    from scripts.run_local import main

    raise SystemExit(main(sys.argv[1:]))

import os

import pytest

from tests import pg

# The simulator listens on 127.0.0.1; a proxy in the environment must not intercept it.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """A store URL on each backend the suite supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/zsc.db"
    else:
        with pg.fresh_database() as url:
            yield url

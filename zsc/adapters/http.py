"""requests, as every adapter (and zenpy and pdpyras, which are built on it) uses it.

Imported here first, without its character-set guesser: requests uses one only for
an answer that names no charset and is not text/*, and then reads it as UTF-8
without one (supported since requests 2.32). Every answer zsc reads is JSON, which
is UTF-8, or a file's bytes; charset_normalizer would cost the daemon 2.5 MiB."""

from __future__ import annotations

import warnings

from zsc.lean_imports import without

with without("charset_normalizer", "chardet"), warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Unable to find acceptable character detection")
    import requests

__all__ = ["requests"]

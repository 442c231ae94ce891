"""``KEYPROOF_KEY_CHANGED`` of the test project: appends each announced key id to the
file ``KEYPROOF_TEST_ANNOUNCED`` names, where a deployment would publish it
(``keyproof.redis_cache.RecordCacheSync.publish``)."""

from __future__ import annotations

import os


def changed(key_id: str) -> None:
    with open(os.environ["KEYPROOF_TEST_ANNOUNCED"], "a", encoding="utf-8") as announced:
        announced.write(key_id + "\n")

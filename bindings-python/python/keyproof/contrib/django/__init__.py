"""The keyproof Django app: key records in your database.

Add ``"keyproof.contrib.django"`` to ``INSTALLED_APPS`` and run ``migrate``: the
``APIKey`` model holds core's key record (never the key), the admin mints keys
(shown once) and revokes, disables, enables, rotates and updates them through
core's lifecycle operations, and ``keyproof.django.KeyproofMiddleware`` /
``KeyproofAuthentication`` look records up in it (writing ``last_used_at`` when core
asks). Management commands: ``keyproof_mint``, ``keyproof_revoke``,
``keyproof_rotate``, ``keyproof_list``.
"""

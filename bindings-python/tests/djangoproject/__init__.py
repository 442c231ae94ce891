"""A Django project using the keyproof app, run in its own processes by test_dbapp_django."""

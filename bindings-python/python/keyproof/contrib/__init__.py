"""Ready-made storage for key records (``keyproof.contrib.django``: a Django app)."""

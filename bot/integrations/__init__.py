"""Outside services (payment gateway, carrier tracking): each a Protocol and a sandbox."""

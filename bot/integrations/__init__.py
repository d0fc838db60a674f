"""Outside systems (payment gateway, carriers): each a Protocol and a deterministic sandbox."""

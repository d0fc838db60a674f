"""Seller ↔ buyer messages (issue 18): stores' sellers and their invites (`sellers`), per-order
conversations relayed with the buyer's identity hidden (`conversations`), what a relayed text may
not carry (`guard`), and how a relayed message leaves through the outbox (`pushes`)."""

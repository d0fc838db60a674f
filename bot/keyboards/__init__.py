"""CallbackData factories, one module per section. Packed data must stay under 64 bytes."""

"""The index: embedders (also used for queries), building a new version beside
the live one, switching when complete, and opening the live one for readers."""

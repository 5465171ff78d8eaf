"""Modeling: train, evaluate, save/load (and later compress, explain)."""

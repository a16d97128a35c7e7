"""The decisions: what to mirror, in which order, and when a cursor may advance.
Adapters do the talking, the store remembers; nothing here imports click."""

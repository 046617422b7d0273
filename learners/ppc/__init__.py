"""RLPG's Prompt Proposal Classifier: which proposal helps each hole (issue 5)."""

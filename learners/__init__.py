"""Learned models: code model, prompt-proposal classifier, GFSA, misuse, reward. Built by later issues."""

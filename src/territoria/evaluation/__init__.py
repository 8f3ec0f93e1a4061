"""Evaluation of retrieval and answers against gold question sets."""

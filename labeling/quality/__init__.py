"""Quality figures for labeling: agreement between annotators, accuracy on gold, distributions."""

"""The loyalty program and retention analytics over the mirror."""

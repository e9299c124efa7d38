"""What is watched: watch config, the matcher and its index, rosters, affiliation, author kinds."""

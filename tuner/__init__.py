"""aptune: tuner (search loop and the `aptune` command)."""

"""Practice tasks, one module per topic; each registers its tasks with kjlab.practice.registry.register."""

"""What the git, GitHub and GitLab tools share: the argument types of branches, commits, remotes and
authors (`refs`), and how a merge made through a hosting service is undone with git (`revert`)."""

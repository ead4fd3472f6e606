"""Two-stage plans: commitments chosen before uncertainty resolves, recourse per scenario."""

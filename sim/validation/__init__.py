"""The validation suite: stylized facts and theory the model should reproduce."""

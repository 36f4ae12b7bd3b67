"""Graph analyses over the model and its assessment: boundary crossings, invariants, attack
paths, defence in depth. Each module is a pure function of the Model and Assessment."""

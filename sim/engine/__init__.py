"""The engine under the rules: how a model's work is run (cores, memory), never what it computes."""

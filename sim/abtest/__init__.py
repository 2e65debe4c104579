"""``community-sim abtest``: simulate the randomized test a team would run inside one community.

``design`` reads the treatment and the test's grid, ``assign`` puts members or network
clusters into arms, ``runs`` simulates one replication (no one treated, everyone treated,
and the A/B tests of the grid), ``analysis`` turns the runs into power, minimum detectable
effect, A/A false positives and spillover bias, ``plots`` and ``report`` write the figures
and sentences, and ``cli`` ties them to the command line.
"""

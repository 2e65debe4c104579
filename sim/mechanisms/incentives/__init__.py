"""The incentive catalog: points, tiers, coupons, group buying, check-ins, flash sales,
lotteries, birthday benefits, badges. Each program is a small module; programs that
are off cost nothing per day.
"""

"""Red-flag screening on the store (issue 14): the bid register's import and load (register), the scan with its
预警分办 into leads, flags, hit rates and the collusion network (screening). The pure rules live in domain.risk."""

"""The paper's Fig. 2: predicting from a mouse's first five training days and its metadata how long it
takes to become trained (docs: ../shared/docs/fig2.md).

``records`` holds what one mouse contributes (plain data, gathered by the job from the stored records);
``cohort`` its training time and which mice enter; ``features`` the 20 features of the design matrix;
``model`` the quartile labels, the random forests, the shuffle control and the permutation importance.
``MODES``: ``paper`` does what the paper's code does, ``methods`` what its Methods say where they differ
(ambient measures over the first five training days; permutation importance on held-out folds).
"""

MODES = ("paper", "methods")

"""The colony's rules: zygosities derived from genotype tests, pups born from litters, culls that end
restrictions, cages and their history. The REST declarations (``chalicelib.resources.genetics`` and
``chalicelib.resources.breeding``), the pages and the Alyx import all call these functions."""

"""XCA gateway actors (ITI TF-2 3.38 Cross Gateway Query, 3.39 Cross Gateway Retrieve).

Will hold: the communities directory, the Initiating Gateway (fan-out and merge) and the
Responding Gateway (into the local registry and repository), and their endpoints.
"""

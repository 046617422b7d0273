"""The variable-misuse learner (GREAT-style bug localisation and repair on program graphs).

`data` is the example format (`MisuseExample`, gzip JSON Lines files) and `synthesis` makes
examples from a corpus's functions; both are pure Python (no torch). Nothing is imported here,
so that importing the data modules never imports the model.
"""

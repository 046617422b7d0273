; Tag query for Python. Each capture name is a kind of fact the extractor records
; (analysis/extract_python.py reads them); names starting with "_" are helpers.

; Imports: `import a.b as c`, `from .m import x as y`, `from __future__ import annotations`.
(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import

; Definitions; methods are functions whose nearest enclosing definition is a class.
(class_definition) @class
(function_definition) @function

; Field declarations: class-body assignments and `self.x = ...` anywhere in a method.
(class_definition
  body: (block
    (expression_statement (assignment) @field)))
(expression_statement
  (assignment
    left: (attribute
      object: (identifier) @_self
      (#eq? @_self "self"))) @field)

; Names.
(identifier) @identifier
(type) @type
(class_definition superclasses: (argument_list) @bases)
(string) @string

; Tag query for Java. Each capture name is a kind of fact the extractor records
; (analysis/extract_java.py reads them).

(package_declaration) @package
(import_declaration) @import

(class_declaration) @class
(interface_declaration) @class
(enum_declaration) @class
(record_declaration) @class

(method_declaration) @function
(constructor_declaration) @function

(field_declaration) @field

(identifier) @identifier
(type_identifier) @type_identifier
(string_literal) @string

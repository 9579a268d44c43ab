"""What a person does with kubectl (ops), in namespaces kjlab made (namespaces)."""

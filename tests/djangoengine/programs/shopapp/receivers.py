def confirm(sender, instance, created, **kwargs):
    if instance.item == "broken":
        raise ValueError("cannot confirm a broken order")
    return f"confirmed {instance.item}"

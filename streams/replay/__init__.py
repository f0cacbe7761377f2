"""What-if replay: fold recorded history through the pure core under several scoring models."""

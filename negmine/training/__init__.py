"""Training: recipes (schema, loading, overrides)."""

from negmine.training.recipe import Recipe, load_recipe, parse_overrides

__all__ = ["Recipe", "load_recipe", "parse_overrides"]

"""Carts and orders: applying storefront events to them, in any order, and reading them."""

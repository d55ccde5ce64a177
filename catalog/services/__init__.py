"""The catalogue's business operations, one module per area: offers (import from Allegro),
linking (offers and order lines to products), products, stock and its push to Allegro."""

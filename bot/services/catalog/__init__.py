"""The catalog (issue 17): products and stores as a buyer browses them, and what a buyer keeps.

    products.py  the product card, search, similar, a store's page, following; the shop's side
                 (add and update products, prices)
    kept.py      the wishlist, the cart, recently viewed
    alerts.py    price-drop alerts (the push kind)
"""

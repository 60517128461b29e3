"""What the demo shop sells, and what its customers and agents write (seed.py uses it).

Messages and notes are templates: {first}, {product} and {address} are the writer's own;
{other_name}, {other_number} and {other_email} name another customer, as real notes do.
"""

from __future__ import annotations

#: The shop's catalogue: SKU, description, price in euro cents.
PRODUCTS: tuple[tuple[str, str, int], ...] = (
    ("KOF-ESP-1000", "Espresso beans Cplus Forte, 1 kg", 1895),
    ("KOF-FIL-500", "Filter coffee Cplus Mild, 500 g", 749),
    ("THE-GRN-100", "Green tea Sencha, 100 g", 595),
    ("MLK-OPS-01", "Electric milk frother", 3995),
    ("MOL-HND-01", "Ceramic hand coffee grinder", 4950),
    ("KAN-FRN-08", "French press 0.8 l", 2495),
    ("MOK-STN-02", "Set of 2 stoneware mugs", 1895),
    ("WAT-KET-17", "Stainless steel kettle 1.7 l", 3495),
    ("ESP-APP-01", "Espresso machine Cplus Barista", 24900),
    ("ONT-KAL-02", "Descaler for coffee machines, 2 pack", 995),
    ("CUP-LUN-30", "Coffee capsules Lungo, 30 pieces", 1099),
    ("SUI-RIE-500", "Cane sugar cubes, 500 g", 329),
    ("FIL-PAP-100", "Paper filters no. 4, 100 pieces", 249),
    ("GLS-LAT-04", "Latte macchiato glasses, set of 4", 2295),
    ("WEG-DIG-01", "Digital coffee scale with timer", 2995),
    ("KAN-DRP-01", "Pour-over dripper with carafe", 3450),
    ("CHO-PUR-250", "Dark chocolate 72%, 250 g", 499),
    ("SIR-VAN-250", "Vanilla syrup, 250 ml", 695),
    ("TAS-TOT-01", "Cplus canvas tote bag", 1250),
    ("BON-CAD-25", "Gift card EUR 25", 2500),
)
#: The shipping line of an order below FREE_SHIPPING_FROM cents.
SHIPPING = ("VERZ-NL", "Shipping", 495)
FREE_SHIPPING_FROM = 2500

#: The subscriptions one can take out.

PLANS = (
    "Coffee box monthly",
    "Coffee box monthly duo",
    "Tea box quarterly",
    "Cplus Premium (free shipping)",
)

#: Contact-form messages: subject and body.
MESSAGES = (
    (
        "Where is my order?",
        "Hello, I ordered last week and nothing has arrived yet. When can I "
        "expect it? Kind regards, {first}",
    ),
    ("Return", "I would like to return the {product}; it arrived damaged. How do I do that?"),
    ("New address", "I have moved. My new address is {address}. Please update my details."),
    ("Invoice", "Could you send me an invoice for my last order? Thanks, {first}"),
    ("Subscription", "I would like to pause my subscription for a month while on holiday."),
    ("Question about a product", "Is the {product} also available in black?"),
)
MESSAGES_NAMING_ANOTHER = (
    (
        "Parcel at the wrong address",
        "My parcel was delivered to {other_name} ({other_email}) "
        "down the street. Could you sort it out with them?",
    ),
)
#: Agents' notes: channel and body.
NOTES = (
    ("phone", "Customer called about a late delivery; checked the tracking, parcel is on its way."),
    ("phone", "Customer asked to change the delivery address of an open order; done."),
    ("email", "Customer asked about the refund for a return; refund approved."),
    ("email", "Customer asked how to pause a subscription; sent the instructions."),
    ("phone", "Espresso machine arrived damaged; sent a replacement, no return needed."),
)
NOTES_NAMING_ANOTHER = (
    (
        "phone",
        "Caller asked for the order status of {other_name} ({other_number}); told them "
        "we only discuss a customer's own orders.",
    ),
    (
        "email",
        "Customer forwarded an e-mail from {other_name} ({other_number}, {other_email}) "
        "about a shared delivery; replied to the customer only.",
    ),
    (
        "phone",
        "Customer says {other_name}, customer {other_number}, received the parcel by "
        "mistake; will ask {other_email} to hand it over.",
    ),
)

"""Static reference data of the sample store: currencies, products, coupons, names, places.

Two flavours of shop, modelled on the two recorded fixture stores: a Latin coffee shop
(USD, EUR) and a Persian delicatessen (IRT, IRR). Product ids, SKUs and prices follow the
fixtures where they show them, so generated orders look like the recorded ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Flavour = Literal["latin", "persian"]


@dataclass(frozen=True)
class CurrencyInfo:
    """How WooCommerce is configured for one currency (Settings → General)."""

    code: str
    decimals: int
    symbol: str  #: as orders carry it (``currency_symbol``)
    symbol_entity: str  #: as ``system_status.settings.currency_symbol`` carries it
    position: str
    thousand_sep: str
    decimal_sep: str
    flavour: Flavour
    country: str  #: ``woocommerce_default_country``
    #: Prices in the catalogue are written in the flavour's base unit (dollars, tomans);
    #: this converts them to the currency's minor units.
    minor_per_base: int


CURRENCIES: dict[str, CurrencyInfo] = {
    "USD": CurrencyInfo("USD", 2, "$", "&#36;", "left", ",", ".", "latin", "US:CA", 100),
    "EUR": CurrencyInfo("EUR", 2, "€", "&euro;", "right_space", ".", ",", "latin", "DE:BE", 100),
    "IRT": CurrencyInfo(
        "IRT",
        0,
        "تومان",
        "&#x062A;&#x0648;&#x0645;&#x0627;&#x0646;",
        "right_space",
        ",",
        ".",
        "persian",
        "IR:THR",
        1,
    ),
    # The rial is a tenth of a toman: the same shelf, ten times the numbers.
    "IRR": CurrencyInfo(
        "IRR", 0, "﷼", "&#xfdfc;", "right_space", ",", ".", "persian", "IR:THR", 10
    ),
}


@dataclass(frozen=True)
class Product:
    """One sellable item (a simple product or one variation of a variable product)."""

    product_id: int
    variation_id: int
    name: str
    sku: str
    price: str  #: in the flavour's base unit, as a decimal string
    parent_name: str | None = None
    size: str | None = None  #: the variation's attribute value, shown as item meta
    weight: int = 10  #: relative popularity


_TEE = "Logo T-Shirt"
PRODUCTS: dict[Flavour, tuple[Product, ...]] = {
    "latin": (
        Product(10, 0, "Ethiopia Yirgacheffe Whole Bean 340g", "BEAN-ETH-340", "18.50", weight=30),
        Product(11, 0, "Colombia Huila Whole Bean 340g", "BEAN-COL-340", "16.00", weight=30),
        Product(12, 0, "Guatemala Antigua Whole Bean 340g", "BEAN-GUA-340", "17.25", weight=22),
        Product(13, 0, "House Espresso Blend 1kg", "BEAN-ESP-1KG", "42.00", weight=26),
        Product(14, 0, "Swiss Water Decaf 340g", "BEAN-DEC-340", "17.50", weight=10),
        Product(15, 0, "Sumatra Mandheling 340g", "BEAN-SUM-340", "18.00", weight=12),
        Product(16, 0, "Kenya AA Nyeri 340g", "BEAN-KEN-340", "21.00", weight=14),
        Product(17, 0, "Cold Brew Concentrate (4 pack)", "COLD-BREW-4", "24.00", weight=12),
        Product(18, 0, "Earl Grey Loose Leaf 100g", "TEA-EARL-100", "9.95", weight=10),
        Product(19, 0, "Sencha Green Tea 100g", "TEA-SEN-100", "11.50", weight=9),
        Product(20, 0, "Masala Chai Blend 150g", "TEA-CHAI-150", "12.75", weight=9),
        Product(21, 0, "Ceramic Pour-Over Dripper", "GEAR-DRIP", "29.99", weight=6),
        Product(22, 0, "Paper Filters (100 pack)", "GEAR-FILT-100", "6.49", weight=16),
        Product(23, 0, "Conical Burr Grinder", "GEAR-GRIND", "129.00", weight=3),
        Product(24, 0, "Gooseneck Kettle 1L", "GEAR-KETTLE", "64.95", weight=3),
        Product(25, 0, "French Press 1L", "GEAR-PRESS", "34.50", weight=4),
        Product(26, 0, "Insulated Travel Mug 12oz", "MUG-TRAVEL-12", "22.00", weight=6),
        Product(27, 0, "Barista Apron", "GEAR-APRON", "28.00", weight=2),
        Product(28, 0, "Home Barista Workshop Ticket", "EVENT-WORKSHOP", "75.00", weight=2),
        Product(29, 30, f"{_TEE} - S", "TEE-LOGO-S", "24.00", _TEE, "S", 2),
        Product(29, 31, f"{_TEE} - M", "TEE-LOGO-M", "24.00", _TEE, "M", 3),
        Product(29, 32, f"{_TEE} - L", "TEE-LOGO-L", "24.00", _TEE, "L", 3),
        Product(29, 33, f"{_TEE} - XL", "TEE-LOGO-XL", "24.00", _TEE, "XL", 2),
    ),
    "persian": (
        Product(10, 0, "قهوه اسپرسو ۲۵۰ گرمی", "IR-COFFEE-250", "385000", weight=20),
        Product(11, 0, "چای ممتاز لاهیجان ۵۰۰ گرم", "IR-TEA-LAH", "210000", weight=30),
        Product(12, 0, "زعفران سرگل ۴ گرم", "IR-SAFFRON-4", "1250000", weight=10),
        Product(13, 0, "عسل طبیعی ۱ کیلویی", "IR-HONEY-1KG", "690000", weight=14),
        Product(14, 0, "پسته اکبری ۵۰۰ گرم", "IR-PISTACHIO-500", "1850000", weight=8),
        Product(15, 0, "خرما مضافتی ۱ کیلو", "IR-DATES", "240000", weight=16),
        Product(16, 0, "گز اصفهان ۴۵۰ گرم", "IR-GAZ", "520000", weight=10),
        Product(17, 0, "کشمش سبز ۵۰۰ گرم", "IR-RAISIN", "180000", weight=12),
        Product(18, 0, "لواشک آلو", "IR-LAVASHAK", "95000", weight=18),
        Product(19, 0, "نبات زعفرانی", "IR-NABAT", "145000", weight=14),
        Product(20, 0, "ماگ سرامیکی دست\u200cساز", "IR-MUG", "275000", weight=5),
        Product(21, 0, "دمنوش گل گاوزبان", "IR-BORAGE", "120000", weight=10),
    ),
}

#: Products and variations exist before the coupons and orders, as in the fixture stores,
#: so the first coupon id is the first free post id after the catalogue.
FIRST_POST_ID_AFTER_CATALOGUE = {"latin": 34, "persian": 22}


@dataclass(frozen=True)
class Shipping:
    flat_title: str
    flat_amount: str  #: base unit
    free_title: str
    free_from: str  #: subtotal (base unit) from which shipping is free


SHIPPING: dict[Flavour, Shipping] = {
    "latin": Shipping("Flat rate", "6.95", "Free shipping", "50"),
    "persian": Shipping("پیک موتوری", "45000", "ارسال رایگان", "1000000"),
}


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    title: str
    weight: int
    online: bool  #: paid at checkout (a gateway), not by transfer or on delivery


PAYMENT_METHODS: dict[Flavour, tuple[PaymentMethod, ...]] = {
    "latin": (
        PaymentMethod("stripe", "Credit Card (Stripe)", 55, True),
        PaymentMethod("ppcp-gateway", "PayPal", 22, True),
        PaymentMethod("bacs", "Direct bank transfer", 13, False),
        PaymentMethod("cod", "Cash on delivery", 10, False),
    ),
    "persian": (
        PaymentMethod("zarinpal", "زرین\u200cپال", 80, True),
        PaymentMethod("bacs", "کارت به کارت", 12, False),
        PaymentMethod("cod", "پرداخت در محل", 8, False),
    ),
}


@dataclass(frozen=True)
class SeedCoupon:
    code: str
    discount_type: str
    amount: str  #: base unit (fixed) or percent
    description: str
    free_shipping: bool = False
    individual_use: bool = False
    #: Who uses it: "first" (first orders), "repeat" (returning buyers), "any", "gift" (rare).
    audience: str = "any"


SEED_COUPONS: dict[Flavour, tuple[SeedCoupon, ...]] = {
    "latin": (
        SeedCoupon("welcome10", "percent", "10", "10% off first order", audience="first"),
        SeedCoupon("save5", "fixed_cart", "5", "$5 off"),
        SeedCoupon("vip20", "percent", "20", "VIP 20% off", audience="repeat"),
        SeedCoupon(
            "freegift",
            "percent",
            "100",
            "100% off (influencer gift)",
            free_shipping=True,
            individual_use=True,
            audience="gift",
        ),
    ),
    "persian": (
        SeedCoupon("nowruz1405", "percent", "15", "تخفیف نوروزی", audience="first"),
        SeedCoupon("takhfif50", "fixed_cart", "50000", "۵۰ هزار تومان تخفیف"),
    ),
}

# ----------------------------------------------------------------------------- people


def _names(text: str) -> tuple[tuple[str, str], ...]:
    """(as written, lower-case ASCII form) for each space-separated name."""
    return tuple((name, name.lower()) for name in text.split())


#: Names are (as written, ASCII form for e-mails and user names).
LATIN_FIRST = _names(
    "Adam Alexander Amanda Amara Amy Andrew Angela Anthony Ashley Benjamin Brian Carlos "
    "Charles Chloe Christopher Daniel David Debra Diego Emily Emma Eric Ethan Fatima Gabriel "
    "Grace Hannah Henry Isabella Jacob James Jason Jennifer Jessica John Joseph Joshua Joyce "
    "Julia Karen Kevin Kimberly Laura Liam Linda Lucas Maria Mark Matthew Mei Michael "
    "Michelle Nathan Nicholas Noah Olivia Paul Priya Rachel Rebecca Robert Ryan Samuel Sarah "
    "Sofia Sophia Stephanie Steven Thomas Tyler Victoria William Yuki Zoe"
)
LATIN_LAST = _names(
    "Adams Allen Anderson Bailey Baker Bennett Berg Brown Campbell Carter Castillo Chen Clark "
    "Collins Cooper Cruz Davis Diaz Edwards Evans Flores Garcia Gomez Gonzalez Green "
    "Gutierrez Hall Harris Hernandez Hill Jackson Johnson Jones Kelly Kim King Lee Lewis "
    "Long Lopez Martin Martinez Mensah Miller Mitchell Moore Morales Morgan Murphy Nelson "
    "Nguyen Ortiz Parker Patel Perez Phillips Price Ramirez Ramos Reed Reyes Rivera Roberts "
    "Robinson Rodriguez Rogers Ross Sanchez Scott Smith Stewart Tanaka Taylor Thomas "
    "Thompson Torres Turner Walker Ward White Williams Wilson Wright Young"
)
#: Accented Latin names: sorting and e-mail folding must cope with them.
ACCENTED: tuple[tuple[tuple[str, str], tuple[str, str]], ...] = (
    (("Anaïs", "anais"), ("Nin-García", "nin-garcia")),
    (("José", "jose"), ("Núñez", "nunez")),
    (("Zoë", "zoe"), ("Brontë", "bronte")),
    (("Björn", "bjorn"), ("Ångström", "angstrom")),
    (("François", "francois"), ("Lefèvre", "lefevre")),
    (("Chloé", "chloe"), ("Dubois", "dubois")),
    (("Søren", "soren"), ("Kierkegård", "kierkegard")),
    (("Małgorzata", "malgorzata"), ("Wiśniewska", "wisniewska")),
)
PERSIAN_FIRST: tuple[tuple[str, str], ...] = (
    ("آرش", "arash"),
    ("الهام", "elham"),
    ("امیر", "amir"),
    ("بهرام", "bahram"),
    ("پویا", "pouya"),
    ("حسین", "hossein"),
    ("داریوش", "dariush"),
    ("رضا", "reza"),
    ("زهرا", "zahra"),
    ("سارا", "sara"),
    ("سینا", "sina"),
    ("شیرین", "shirin"),
    ("علی", "ali"),
    ("فاطمه", "fatemeh"),
    ("کاوه", "kaveh"),
    ("لیلا", "leila"),
    ("مریم", "maryam"),
    ("محمد", "mohammad"),
    ("مهسا", "mahsa"),
    ("نرگس", "narges"),
    ("نیما", "nima"),
    ("هستی", "hasti"),
    ("یاسمن", "yasaman"),
    ("کیان", "kian"),
)
PERSIAN_LAST: tuple[tuple[str, str], ...] = (
    ("احمدی", "ahmadi"),
    ("اکبری", "akbari"),
    ("بهرامی", "bahrami"),
    ("جعفری", "jafari"),
    ("حسینی", "hosseini"),
    ("رحیمی", "rahimi"),
    ("رضایی", "rezaei"),
    ("زمانی", "zamani"),
    ("شریفی", "sharifi"),
    ("صادقی", "sadeghi"),
    ("طاهری", "taheri"),
    ("عباسی", "abbasi"),
    ("قاسمی", "ghasemi"),
    ("کریمی", "karimi"),
    ("کمالی", "kamali"),
    ("محمدی", "mohammadi"),
    ("موسوی", "mousavi"),
    ("نوری", "nouri"),
    ("هاشمی", "hashemi"),
    ("یزدانی", "yazdani"),
)

EMAIL_DOMAINS = (
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "inbox.example.net",
)

# ----------------------------------------------------------------------------- places

#: (city, state code, postcode)
US_CITIES: tuple[tuple[str, str, str], ...] = (
    ("Boston", "MA", "02108"),
    ("Denver", "CO", "80202"),
    ("Miami", "FL", "33130"),
    ("Raleigh", "NC", "27601"),
    ("Richmond", "VA", "23219"),
    ("San Diego", "CA", "92101"),
    ("Madison", "WI", "53703"),
    ("Austin", "TX", "78701"),
    ("Portland", "OR", "97204"),
    ("Seattle", "WA", "98101"),
    ("Chicago", "IL", "60602"),
    ("Brooklyn", "NY", "11201"),
    ("Minneapolis", "MN", "55401"),
    ("Nashville", "TN", "37203"),
    ("Phoenix", "AZ", "85004"),
    ("Salt Lake City", "UT", "84101"),
)
US_STREETS = (
    "Oak St",
    "Maple Ave",
    "Cedar Ln",
    "Pine Rd",
    "Elm St",
    "Forest Dr",
    "Lake View Rd",
    "Hillcrest Ave",
    "Sunset Blvd",
    "Park Pl",
)
DE_CITIES: tuple[tuple[str, str, str], ...] = (
    ("Berlin", "BE", "10115"),
    ("Hamburg", "HH", "20095"),
    ("München", "BY", "80331"),
    ("Köln", "NW", "50667"),
    ("Leipzig", "SN", "04109"),
    ("Freiburg", "BW", "79098"),
)
DE_STREETS = ("Hauptstraße", "Gartenweg", "Schillerstraße", "Lindenallee", "Bahnhofstraße")
IR_CITIES: tuple[tuple[str, str, str], ...] = (
    ("تهران", "THR", "14"),
    ("اصفهان", "ESF", "81"),
    ("مشهد", "RKH", "91"),
    ("تبریز", "EAZ", "51"),
    ("شیراز", "FRS", "71"),
    ("کرج", "ABZ", "31"),
    ("رشت", "GIL", "41"),
    ("یزد", "YZD", "89"),
)
IR_STREETS = (
    "کوچه بهار",
    "بلوار کشاورز",
    "خیابان ولیعصر",
    "خیابان انقلاب",
    "کوچه نسترن",
    "بلوار فردوسی",
)

USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0 Safari/537.36 Edg/125.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36",
)

REFUND_REASONS_PARTIAL = ("", "Partial return", "Item returned", "Damaged in transit", "")
REFUND_REASONS_FULL = ("Duplicate order", "Customer request", "Out of stock", "")

CUSTOMER_NOTES: dict[Flavour, tuple[str, ...]] = {
    "latin": (
        "Please leave the parcel with the neighbour.",
        "Please gift wrap it 🎁 and no receipt inside, thanks! ☕",
        "Ring twice, the bell is broken.",
        "Grind for espresso please.",
        "Deliver after 5pm 🙏",
    ),
    "persian": (
        "لطفا قبل از ارسال تماس بگیرید.",
        "کادوپیچ شود لطفا 🎁",
        "زنگ واحد ۴ را بزنید.",
        "بعد از ساعت ۵ عصر تحویل دهید 🙏",
    ),
}

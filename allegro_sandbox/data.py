"""Realistic Polish (and some Czech) buyers, addresses, offers and checkout forms.

Everything is driven by a caller-supplied ``random.Random`` so runs are reproducible.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from .clock import iso

FIRST_NAMES_M = [
    "Jan",
    "Piotr",
    "Krzysztof",
    "Andrzej",
    "Tomasz",
    "Paweł",
    "Michał",
    "Marcin",
    "Grzegorz",
    "Łukasz",
    "Adam",
    "Mateusz",
    "Kamil",
    "Jakub",
    "Wojciech",
    "Szymon",
    "Bartłomiej",
    "Dawid",
]
FIRST_NAMES_F = [
    "Anna",
    "Maria",
    "Katarzyna",
    "Małgorzata",
    "Agnieszka",
    "Barbara",
    "Ewa",
    "Magdalena",
    "Joanna",
    "Aleksandra",
    "Zofia",
    "Natalia",
    "Monika",
    "Karolina",
    "Justyna",
    "Żaneta",
]
LAST_NAMES = [
    ("Nowak", "Nowak"),
    ("Kowalski", "Kowalska"),
    ("Wiśniewski", "Wiśniewska"),
    ("Wójcik", "Wójcik"),
    ("Kowalczyk", "Kowalczyk"),
    ("Kamiński", "Kamińska"),
    ("Lewandowski", "Lewandowska"),
    ("Zieliński", "Zielińska"),
    ("Szymański", "Szymańska"),
    ("Woźniak", "Woźniak"),
    ("Dąbrowski", "Dąbrowska"),
    ("Kozłowski", "Kozłowska"),
    ("Jankowski", "Jankowska"),
    ("Mazur", "Mazur"),
    ("Krawczyk", "Krawczyk"),
    ("Grabowski", "Grabowska"),
    ("Pawłowski", "Pawłowska"),
    ("Michalski", "Michalska"),
    ("Król", "Król"),
    ("Wieczorek", "Wieczorek"),
    ("Jabłoński", "Jabłońska"),
    ("Nowakowski", "Nowakowska"),
    ("Majewski", "Majewska"),
    ("Olszewski", "Olszewska"),
]
# (city, postcode prefix, locker prefix)
CITIES = [
    ("Warszawa", "00", "WAW"),
    ("Kraków", "30", "KRA"),
    ("Łódź", "90", "LOD"),
    ("Wrocław", "50", "WRO"),
    ("Poznań", "60", "POZ"),
    ("Gdańsk", "80", "GDA"),
    ("Szczecin", "70", "SZC"),
    ("Bydgoszcz", "85", "BYD"),
    ("Lublin", "20", "LUB"),
    ("Białystok", "15", "BIA"),
    ("Katowice", "40", "KAT"),
    ("Gdynia", "81", "GDY"),
    ("Częstochowa", "42", "CZE"),
    ("Radom", "26", "RAD"),
    ("Toruń", "87", "TOR"),
    ("Rzeszów", "35", "RZE"),
    ("Kielce", "25", "KIE"),
    ("Olsztyn", "10", "OLS"),
    ("Zielona Góra", "65", "ZIE"),
    ("Opole", "45", "OPO"),
]
STREETS = [
    "Marszałkowska",
    "Długa",
    "Polna",
    "Leśna",
    "Słoneczna",
    "Krótka",
    "Szkolna",
    "Ogrodowa",
    "Lipowa",
    "Łąkowa",
    "Kościuszki",
    "Mickiewicza",
    "Sienkiewicza",
    "Piłsudskiego",
    "Grunwaldzka",
    "Kwiatowa",
    "Jana Pawła II",
    "3 Maja",
    "Żeromskiego",
    "Wojska Polskiego",
    "Armii Krajowej",
    "Kolejowa",
    "Parkowa",
    "Źródlana",
]
LOCKER_SPOTS = [
    "Stacja paliw Orlen",
    "Przy sklepie Żabka",
    "Obok Biedronki",
    "Parking Lidl",
    "Przy wejściu do galerii",
    "Osiedle, przy placu zabaw",
    None,
]
CZ_CITIES = [("Praha", "110 00"), ("Brno", "602 00"), ("Ostrava", "702 00"), ("Plzeň", "301 00")]
CZ_STREETS = ["Národní", "Vodičkova", "Masarykova", "Husova", "Palackého"]
CZ_FIRST = ["Jiří", "Petr", "Jana", "Eva", "Tomáš", "Lucie"]
CZ_LAST = ["Novák", "Svoboda", "Dvořák", "Černá", "Procházka", "Kučerová"]

COMPANY_WORDS = ["Handel", "Serwis", "Budmax", "Technika", "Eko", "Trans", "Meblex", "Agro"]
COMPANY_FORMS = ["Sp. z o.o.", "S.A.", "s.c.", "Sp. j.", ""]

PRODUCTS = [
    ("Słuchawki bezprzewodowe", 89.0),
    ("Ładowarka USB-C 65W", 59.0),
    ("Kabel HDMI 2.1 2m", 29.0),
    ("Kubek termiczny 450 ml", 49.0),
    ("Plecak miejski 25 l", 139.0),
    ("Lampka biurkowa LED", 79.0),
    ("Powerbank 20000 mAh", 119.0),
    ("Etui na telefon", 19.99),
    ("Mysz bezprzewodowa", 69.0),
    ("Klawiatura mechaniczna", 249.0),
    ("Czajnik elektryczny 1,7 l", 99.0),
    ("Patelnia granitowa 28 cm", 89.9),
    ("Zestaw śrubokrętów 32 el.", 45.5),
    ("Ręcznik bawełniany 70x140", 34.99),
    ("Koc polarowy 150x200", 39.0),
    ("Buty sportowe damskie 38", 199.0),
    ("Kurtka przeciwdeszczowa M", 229.0),
    ("Zabawka konstrukcyjna 500 el.", 129.0),
    ("Karma dla kota 2 kg", 64.0),
    ("Filtr do wody 3 szt.", 54.0),
    ("Żarówka LED E27 10W 4 szt.", 24.99),
    ("Organizer na biurko", 32.0),
    ("Termometr bezdotykowy", 74.0),
    ("Bidon sportowy 750 ml", 27.0),
]
VARIANTS = ["czarny", "biały", "szary", "niebieski", "czerwony", "zielony", "", ""]
CATEGORIES = ["257931", "4340", "261057", "11763", "20585", "1309"]

MESSAGES = [
    "Proszę o staranne zapakowanie.",
    "Czy można wysłać jeszcze dziś?",
    "Proszę o fakturę.",
    "Prezent – proszę nie dołączać paragonu.",
    "Proszę dzwonić przed dostawą.",
]

# (name, kind, cod)
DELIVERY_METHODS = [
    ("Allegro Paczkomaty InPost", "locker", False, 0.45),
    ("Allegro Kurier DPD", "courier", False, 0.15),
    ("Allegro Kurier InPost", "courier", False, 0.1),
    ("Allegro One Box, One Kurier", "locker", False, 0.08),
    ("Allegro Kurier DPD pobranie", "courier", True, 0.1),
    ("Allegro Paczkomaty InPost pobranie", "locker", True, 0.07),
    ("Allegro Kurier DHL", "courier", False, 0.05),
]
DELIVERY_COST = {"locker": 11.99, "courier": 15.99}
CZK_PER_PLN = 5.8


def method_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "allegro-sandbox-delivery:" + name))


def rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def rand_hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def nip(rng: random.Random) -> str:
    """A random Polish NIP with a valid checksum (weights 6,5,7,2,3,4,5,6,7, mod 11)."""
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def nip_is_valid(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) != 10:
        return False
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 == digits[9]


def money(amount: float, currency: str) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": currency}


def pl_phone(rng: random.Random) -> str:
    n = f"{rng.choice('5678')}{rng.randint(0, 99999999):08d}"
    if rng.random() < 0.5:
        return f"+48 {n[0:3]} {n[3:6]} {n[6:9]}"
    return "+48" + n


def masked_email(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    local = "".join(rng.choice(alphabet) for _ in range(10))
    return f"{local}+{rand_hex(rng, 9)}@allegromail.pl"


def _address_pl(rng: random.Random) -> tuple[str, str, str, str]:
    city, prefix, locker = rng.choice(CITIES)
    street = f"{rng.choice(STREETS)} {rng.randint(1, 180)}"
    if rng.random() < 0.4:
        street += f"/{rng.randint(1, 60)}"
    postcode = f"{prefix}-{rng.randint(1, 999):03d}"
    return street, city, postcode, locker


def ean13(seed: str) -> str:
    """A valid EAN-13 (Polish prefix 590, check digit) made from the digits of ``seed``."""
    digits = ("590" + "".join(c for c in seed if c.isdigit()).rjust(9, "0"))[:12]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def make_offers(
    rng: random.Random, seller_id: str, count: int, now: float, start: int = 0
) -> list[dict]:
    """Offers as stored internally (flat); see api.offer_listing for the wire shape.

    The n-th offer of a seller (``start`` of them exist already) says what real catalogues
    say, by its number so that tests know which: every 40th has no signature (external.id),
    the 21st of each 40 repeats the signature of the one before it, and two of every three
    have a product with an EAN (GTIN), shown by /sale/product-offers only."""
    offers = []
    for i in range(start, start + count):
        name, base = rng.choice(PRODUCTS)
        variant = rng.choice(VARIANTS)
        full = f"{name} {variant}".strip()
        status = rng.choices(["ACTIVE", "INACTIVE", "ENDED", "ACTIVATING"], [80, 8, 10, 2])[0]
        offers.append(
            {
                "id": str(rng.randint(10_000_000_000, 19_999_999_999)),
                "seller_id": seller_id,
                "name": full[:75],
                "category": rng.choice(CATEGORIES),
                "price": round(base * rng.uniform(0.85, 1.2), 2),
                "currency": "PLN",
                "format": "BUY_NOW",
                "available": rng.randint(0, 250),
                "sold": rng.randint(0, 40),
                "status": status,
                "external_id": None
                if i % 40 == 39
                else f"SKU-{seller_id[-4:]}-{i + (0 if i % 40 == 20 else 1):05d}",
                "created_at": now - rng.randint(1, 300) * 86400,
                "watchers": rng.randint(0, 120),
                "visits": rng.randint(0, 3000),
                "image": "https://a.allegroimg.com/original/"
                + rand_hex(rng, 6)
                + "/"
                + rand_hex(rng, 28),
            }
        )
        offers[-1]["ean"] = ean13(f"{seller_id}{i:06d}") if i % 3 != 2 else None
    return offers


def make_checkout_form(
    rng: random.Random,
    seller_id: str,
    offers: list[dict],
    bought_at: float,
    *,
    marketplace: str | None = None,
    payment_type: str | None = None,
    invoice: bool | None = None,
    lines: int | None = None,
    delivery: str | None = None,
) -> dict[str, Any]:
    """A checkout form in status BOUGHT (the lifecycle functions move it on)."""
    if marketplace is None:
        marketplace = "allegro-cz" if rng.random() < 0.05 else "allegro-pl"
    cz = marketplace == "allegro-cz"
    bought_iso = iso(bought_at)
    currency = "CZK" if cz else "PLN"
    rate = CZK_PER_PLN if cz else 1.0
    female = rng.random() < 0.5
    if cz:
        first, last = rng.choice(CZ_FIRST), rng.choice(CZ_LAST)
        city, postcode = rng.choice(CZ_CITIES)
        street = f"{rng.choice(CZ_STREETS)} {rng.randint(1, 90)}"
        locker = "CZPRG"
        country = "CZ"
        phone = f"+420 {rng.randint(600, 799)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"
        language = "cs-CZ"
    else:
        first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
        last = rng.choice(LAST_NAMES)[1 if female else 0]
        street, city, postcode, locker = _address_pl(rng)
        country = "PL"
        phone = pl_phone(rng)
        language = "pl-PL"
    buyer_id = str(rng.randint(10_000_000, 130_000_000))
    if rng.random() < 0.3:
        login = f"Client:{buyer_id}"
    else:
        login = f"{first.lower()[:5]}_{last.lower()[:6]}{rng.randint(1, 99)}"
        login = login.translate(str.maketrans("ąćęłńóśźżáčďéěíňřšťúůýž", "acelnoszzacdeeinrstuuyz"))
    guest = rng.random() < 0.04

    buyer: dict[str, Any] = {
        "id": buyer_id,
        "email": masked_email(rng),
        "login": login,
        "firstName": first,
        "lastName": last,
        "guest": guest,
        "phoneNumber": phone,
        "preferences": {"language": language},
        "address": {"street": street, "city": city, "postCode": postcode, "countryCode": country},
    }

    # delivery
    if delivery is None:
        names = [m for m in DELIVERY_METHODS if not (payment_type == "ONLINE" and m[2])]
        if payment_type == "CASH_ON_DELIVERY":
            names = [m for m in DELIVERY_METHODS if m[2]]
        method = rng.choices(names, [m[3] for m in names])[0]
    else:
        method = next(m for m in DELIVERY_METHODS if m[1] == delivery and not m[2])
        if payment_type == "CASH_ON_DELIVERY":
            method = next(m for m in DELIVERY_METHODS if m[1] == delivery and m[2])
    mname, kind, cod, _ = method
    ptype = "CASH_ON_DELIVERY" if cod else "ONLINE"
    delivery_cost = DELIVERY_COST[kind] * rate
    if rng.random() < 0.15:
        delivery_cost = 0.0  # Smart!
    delivery_obj: dict[str, Any] = {
        "address": {
            "firstName": first,
            "lastName": last,
            "street": street,
            "city": city,
            "zipCode": postcode,
            "countryCode": country,
            "phoneNumber": phone,
        },
        "method": {"id": method_id(mname), "name": mname},
        "cost": money(delivery_cost, currency),
        "time": {
            "dispatch": {"from": iso(bought_at + 3600), "to": iso(bought_at + 86400)},
            "from": iso(bought_at + 86400),
            "to": iso(bought_at + 3 * 86400),
        },
        "smart": delivery_cost == 0.0,
        "calculatedNumberOfPackages": 1,
    }
    if kind == "locker":
        code = f"{locker}{rng.randint(1, 450):02d}{rng.choice('ABCMN')}"
        pstreet, pcity, ppost, _ = (street, city, postcode, locker)
        if not cz:
            pstreet = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
        point: dict[str, Any] = {
            "id": code,
            "name": f"Paczkomat {code}",
            "address": {"street": pstreet, "zipCode": ppost, "city": pcity, "countryCode": country},
        }
        desc = rng.choice(LOCKER_SPOTS)
        if desc:
            point["description"] = desc
        delivery_obj["pickupPoint"] = point

    # line items
    sellable = [o for o in offers if o["status"] == "ACTIVE"] or offers
    n_lines = lines or rng.choices([1, 2, 3, 4], cum_weights=[70, 88, 96, 100])[0]
    chosen = rng.sample(sellable, min(n_lines, len(sellable))) if sellable else []
    line_items = []
    total = 0.0
    for offer in chosen:
        qty = rng.choices([1, 2, 3, 5], cum_weights=[80, 92, 97, 100])[0]
        price = round(offer["price"] * rate, 2)
        original = price
        if rng.random() < 0.1:
            price = round(price * 0.9, 2)
        total += price * qty
        line_items.append(
            {
                "id": rand_uuid(rng),
                "offer": {
                    "id": offer["id"],
                    "name": offer["name"],
                    **({"external": {"id": offer["external_id"]}} if offer["external_id"] else {}),
                },
                "quantity": qty,
                "originalPrice": money(original, currency),
                "price": money(price, currency),
                "tax": {"rate": "23.00", "subject": "GOODS"},
                "boughtAt": bought_iso,
            }
        )
    total += delivery_cost

    # invoice
    if invoice is None:
        invoice = rng.random() < 0.18
    invoice_obj: dict[str, Any] = {"required": bool(invoice)}
    if invoice:
        if cz or rng.random() < 0.25:
            invoice_obj["address"] = {
                "street": street,
                "city": city,
                "zipCode": postcode,
                "countryCode": country,
                "naturalPerson": {"firstName": first, "lastName": last},
            }
        else:
            cname = f"{rng.choice(COMPANY_WORDS)}-{last[:4]} {rng.choice(COMPANY_FORMS)}".strip()
            tax_id = nip(rng)
            cstreet, ccity, cpost, _ = _address_pl(rng)
            invoice_obj["address"] = {
                "street": cstreet,
                "city": ccity,
                "zipCode": cpost,
                "countryCode": "PL",
                "company": {
                    "name": cname,
                    "ids": [{"type": "PL_NIP", "value": tax_id}],
                    "vatPayerStatus": "ACTIVE",
                    "taxId": tax_id,
                },
            }
            buyer["companyName"] = cname
            delivery_obj["address"]["companyName"] = cname

    form: dict[str, Any] = {
        "id": rand_uuid(rng),
        "buyer": buyer,
        "payment": {
            "id": rand_uuid(rng),
            "type": payment_type or ptype,
            "provider": "OFFLINE"
            if (payment_type or ptype) == "CASH_ON_DELIVERY"
            else rng.choice(["PAYU", "P24"]),
            "features": ["ALLEGRO_PAY"] if rng.random() < 0.07 else [],
        },
        "status": "BOUGHT",
        "fulfillment": {
            "status": "NEW",
            "shipmentSummary": {"lineItemsSent": "NONE"},
            "provider": {"id": "SELLER"},
        },
        "delivery": delivery_obj,
        "invoice": invoice_obj,
        "lineItems": line_items,
        "surcharges": [],
        "marketplace": {"id": marketplace},
        "summary": {"totalToPay": money(total, currency)},
        "updatedAt": bought_iso,
        "revision": rand_hex(rng, 8),
    }
    if rng.random() < 0.12:
        form["messageToSeller"] = rng.choice(MESSAGES)
    return form


def modify_address(rng: random.Random, form: dict[str, Any]) -> None:
    """The buyer changes the delivery address and phone number."""
    street, city, postcode, _ = _address_pl(rng)
    addr = form["delivery"]["address"]
    addr.update({"street": street, "city": city, "zipCode": postcode, "phoneNumber": pl_phone(rng)})

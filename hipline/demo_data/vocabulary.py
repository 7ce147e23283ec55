"""Words the demo data is made of: names, goals and the notes clinicians write."""

FIRST_NAMES = [
    "Aisha", "Alice", "Amira", "Ana", "Anna", "Ben", "Bridget", "Carlos", "Chloé", "Chen", "Dara",
    "David", "Eilidh", "Elena", "Emma", "Fatima", "Femi", "Grace", "Hannah", "Hiro", "Ines", "Isla",
    "Jack", "James", "José", "Kai", "Karin", "Leila", "Liam", "Lucía", "Maeve", "Marta", "Mei",
    "Mohammed", "Nadia", "Niamh", "Noah", "Olga", "Omar", "Priya", "Rafael", "Rosa", "Ruth", "Sam",
    "Sarah", "Siobhán", "Sofia", "Tomás", "Uma", "Wei", "Yusuf", "Zoë", "Łukasz", "Björn", "Nomvula",
]

LAST_NAMES = [
    "Adeyemi", "Ahmed", "Andersen", "Baker", "Brennan", "Byrne", "Campbell", "Chen", "Costa", "Da Silva",
    "Dubois", "Evans", "Fernández", "Fischer", "Garcia", "Gupta", "Hansen", "Hughes", "Ivanova", "Jones",
    "Kaur", "Kelly", "Khan", "Kowalski", "Larsen", "Lee", "Martin", "Müller", "Murphy", "Nakamura",
    "Nguyen", "Novak", "O'Brien", "Okafor", "Patel", "Pereira", "Quinn", "Rossi", "Russo", "Schmidt",
    "Singh", "Smith", "Sørensen", "Taylor", "Thompson", "Walsh", "Wang", "Williams", "Wilson", "Zhang",
]

GOALS = {
    "hip": [
        "Walk the dog for 30 minutes without hip pain",
        "Climb the stairs at home without holding the rail",
        "Get back to gardening",
        "Sleep on my side without waking",
        "Return to social tennis",
    ],
    "knee": [
        "Walk down stairs without knee pain",
        "Get up from a low chair without using my hands",
        "Return to parkrun",
        "Kneel in the garden",
        "Hike 10 km with my family",
    ],
    "low_back": [
        "Lift my grandchild without back pain",
        "Sit through a work day without stiffness",
        "Return to golf",
        "Do the weekly shop and carry the bags",
        "Drive for two hours without stopping",
    ],
    "other": [
        "Feel stronger and steadier on my feet",
        "Return to my Pilates class",
        "Walk to work again",
    ],
}

# Notes of everyday sessions. Some start with "-", "+", "=" or "@": the loader must keep them as
# text, and exports must neutralise them so a spreadsheet never runs them as a formula.
EVERYDAY_NOTES = [
    "Good session, moving well",
    "Tight hamstrings today",
    "Felt easier than last week",
    "Tired after work, kept it light",
    "Forgot the band at home, did it without",
    "Cued level pelvis throughout",
    "Slight ache after, settled by the evening",
    "Confident with the new level",
    "Short on time, did half the programme",
    "-ve reaction to band work, keep it light",
    "+1 set added today",
    "=) pleased with progress",
    "@home plan reviewed with client",
    "Séance courte, très motivée",
    "Müde heute, aber gut gemacht",
]

# Notes that mention the warning signs of SPEC §2 (swelling, instability / giving way,
# numbness / tingling, night pain, a fall).
RED_FLAG_NOTES = [
    "Some swelling around the knee after class",
    "Said the knee gave way on the stairs yesterday",
    "Numbness down the left leg since Tuesday",
    "Night pain is waking her up",
    "Had a fall at home last week",
    "Tingling in the foot during the hinge work",
    "Reports the hip feels unstable when walking",
]

"""The theme taxonomy: a small list of public-sector themes with their standard Finnish, Swedish and English words.

What it is: about sixty themes in ten domains, written from two public sources and general vocabulary,
not from any labelled data:

- the Six City Strategy (6Aika, the joint strategy of Helsinki, Espoo, Vantaa, Tampere, Turku and
  Oulu): its three platforms (open innovation platforms, open data and interfaces, open participation
  and customership) and the cities' focus areas (carbon neutrality, smart mobility, circular economy,
  health and wellbeing, education, employment and skills, business growth);
- EuroVoc, the EU's multilingual thesaurus: its domains and microthesauri (transport, environment,
  energy, social questions, education and communications, employment and working conditions, business
  and competition, politics, agriculture ...), named in the comment above each theme. The names were
  written from general knowledge of the thesaurus, not copied from it, so its numeric codes are left out.

The forms of a theme are the ordinary dictionary words for it in the three languages, as stems with
wildcards (inflection and compounds are the language bridge's job, `matcher.bridge`; the wildcards here
only let a stem match its inflected and compounded forms). This taxonomy replaced, in issue 14, a
glossary written while reading the development data; no form here was taken from an evaluation text,
and none may be added because it occurs in one. Its use: the `concepts`, `domains` and `tags` signals,
the English concept line the dense model reads, and the "shared concepts" of a match's reasons.

One theme per line::

    label | weight | English forms | Finnish forms | Swedish forms

- `label` is the theme's English name (what the dense model and the reasons see);
- `weight` is how specific the theme is: 1.0 for a real topic, lower for broad themes that many
  unrelated texts share (below 0.5 a theme is never named in a reason or a tag key);
- forms are comma-separated, matched on lower-cased word tokens: ``bus`` is the whole word, ``bus*``
  a word starting with it (inflection), ``*liiken*`` that string anywhere in a word (the parts of
  Finnish and Swedish compounds), and a form may be several words (``open data``).

A line ``@domain`` starts a group of themes; each theme also counts, weakly, as its domain, so "bus"
and "cycling" share *mobility* even where they share no theme. A ``#`` line is a comment.
"""

GLOSSARY = r"""
@mobility
# 6Aika focus area: smart mobility; EuroVoc: transport

# EuroVoc: organisation of transport (public transport), land transport (rail)
public transport | 1 | public transport*, public transit, bus, buses, tram, trams, metro, railway*, train, trains, commuter* | *joukkoliiken*, bussi*, *bussi*, linja-auto*, raitiovaun*, *raitiotie*, metro*, juna, junat, junan, junia, *rautatie* | kollektivtrafik*, *kollektivtrafik*, buss, bussar*, bussen, spårvagn*, tunnelban*, tåg, tåget, tågen, *järnväg*
# EuroVoc: land transport (road transport, motor vehicle, parking)
road traffic and parking | 0.8 | road, roads, road traffic, car, cars, motor vehicle*, driving, parking, car park* | tieliiken*, *tieliiken*, ajoneuvo*, *ajoneuvo*, autoilu*, henkilöauto*, pysäköi*, *pysäköi* | vägtrafik*, fordon*, *fordon, bil, bilar*, bilen, bilism*, parkering*, *parkering*
# EuroVoc: land transport; 6Aika smart mobility (walking and cycling)
cycling and walking | 1 | cycling, cyclist*, bicycle*, bike, bikes, walking, pedestrian* | pyöräil*, *pyöräil*, polkupyör*, *polkupyör*, kävely*, *kävely*, jalankul*, *jalankul* | cykel, cykl*, *cykel*, *cykl*, fotgängar*, gångtrafik*
# EuroVoc: land transport (electric vehicle); 6Aika smart mobility
electric vehicles and charging | 1 | electric vehicle*, electric car*, ev, evs, e-mobility, charging, charger*, charge point* | sähköauto*, *sähköauto*, sähköajoneuvo*, *sähköajoneuvo*, latau*, *latau* | elbil*, *elbil*, elfordon*, laddning*, *laddning*, laddstolp*, *laddstolp*
# EuroVoc: organisation of transport (carriage of goods, logistics)
logistics and freight | 1 | logistic*, freight, goods transport, deliveries, parcel*, last mile | logistiik*, *logistiik*, tavaraliiken*, *tavaraliiken*, rahti*, *rahti*, jakelu*, *jakelu*, kuljetus*, kuljetuks*, *kuljetus* | logistik*, *logistik*, godstransport*, frakt*, *frakt*, leverans*, *leverans*
# EuroVoc: maritime and inland waterway transport
waterborne transport | 1 | ship, ships, shipping, ferry, ferries, port, ports, harbour*, harbor*, boat, boats, maritime | laiva*, *laiva*, satama*, *satama*, lautta*, *lautta*, vesiliiken*, meriliiken*, vene, veneet, veneen, veneit* | fartyg*, *fartyg*, sjöfart*, hamn, hamnen, hamnar*, *hamn, färja*, färjor*, båt, båtar*, båten
# EuroVoc: air and space transport
air transport | 1 | airport*, aviation, flight*, aircraft, air travel | lentoasem*, *lentoasem*, lentokent*, *lentokent*, lentoliiken*, ilmailu*, *ilmailu* | flygplats*, *flygplats*, flyget, flygtrafik*, luftfart*
# EuroVoc: transport (domain): the broad theme
mobility and transport | 0.6 | mobility, transport, transportation, traffic, travel, journey*, trip, trips | liikku*, *liikkumi*, liiken*, *liiken*, matkusta*, *matkustaj*, kuljet* | mobilitet*, transport*, *transport*, trafik*, *trafik*, resa, resor, resande, resenär*

@environment and climate
# 6Aika focus areas: carbon neutrality, circular economy; EuroVoc: environment

# EuroVoc: environmental policy (climate change policy, reduction of gas emissions); 6Aika carbon neutrality
climate and carbon neutrality | 1 | climate, climate change, carbon neutral*, carbon footprint*, emission*, greenhouse gas*, co2, low-carbon, decarbonisation | ilmasto*, *ilmasto*, hiilineutraa*, *hiilineutraa*, hiilijalanjälj*, *hiilijalanjälj*, päästö*, *päästö*, kasvihuonekaasu*, vähähiili* | klimat*, *klimat*, klimatneutral*, koldioxid*, utsläpp*, *utsläpp*, växthusgas*
# 6Aika focus area: circular economy; EuroVoc: environmental policy (recycling, reuse)
circular economy | 1 | circular economy, recycl*, reuse, re-use, repair, repairing | kiertotalou*, *kiertotalou*, kierrät*, *kierrät*, uudelleenkäyt*, uusiokäyt* | cirkulär ekonomi, cirkulär*, kretslopp*, återvinn*, *återvinn*, återbruk*, *återbruk*
# EuroVoc: environmental policy (waste management)
waste management | 1 | waste, waste management, garbage, refuse collection, litter, landfill* | jäte, jäte*, *jäte*, jätte*, *jätte*, roska*, *roska* | avfall*, *avfall*, sopor, sophämtning*
# EuroVoc: environmental policy (water management), deterioration of the environment (water pollution)
water management | 1 | water, wastewater, stormwater, sewer*, sewage, drinking water | vesi, vesi*, *vesi, *vesien, veden, *veden, vedet, vettä, jätevesi*, hulevesi*, viemär*, *viemär* | vatten, vattnet, *vatten*, avlopp*, *avlopp*, dagvatten*
# EuroVoc: deterioration of the environment (air pollution, noise pollution)
air quality and noise | 1 | air quality, air pollution, noise, particulate* | ilmanlaat*, *ilmanlaat*, ilmansaaste*, melu*, *melu*, pienhiukka* | luftkvalitet*, luftförorening*, buller*, *buller*
# EuroVoc: natural environment (biodiversity, forest, green space)
nature and biodiversity | 1 | nature, biodiversity, ecosystem*, green space*, green area*, park, parks, forest, forests, tree, trees | luonto*, *luonto*, luonnon*, monimuotoisuu*, ekosystee*, viheralue*, *viheralue*, puisto*, *puisto*, metsä*, *metsä* | natur, naturen, naturvård*, biologisk mångfald, ekosystem*, grönområde*, *grönområde*, park, parken, parker*, skog, skogen, skogar*, träd

@energy
# EuroVoc: energy

# EuroVoc: soft energy (renewable energy, solar energy, wind energy, geothermal energy)
renewable energy | 1 | renewable*, solar, solar power, wind power, wind turbine*, geothermal, heat pump*, biogas, bioenergy | uusiutuv*, aurinkoenergi*, aurinkosähkö*, aurinkopaneel*, *aurinkopaneel*, tuulivoim*, *tuulivoim*, maalämpö*, *maalämpö*, lämpöpump*, *lämpöpump*, biokaasu*, *biokaasu* | förnybar*, solenergi*, solcell*, *solcell*, vindkraft*, *vindkraft*, bergvärme*, värmepump*, *värmepump*, biogas*
# EuroVoc: energy policy (energy saving, energy consumption)
energy efficiency | 1 | energy efficien*, energy saving*, energy consumption, energy use | energiatehokk*, *energiatehokk*, energiansäästö*, *energiansäästö*, energiankulutu*, *energiankulutu* | energieffektiv*, energibesparing*, energiförbrukning*
# EuroVoc: energy (heat, district heating)
heating and cooling | 1 | district heating, district cooling, heating, cooling | kaukolämpö*, *kaukolämpö*, kaukolämmö*, *kaukolämmö*, kaukojäähdy*, lämmity*, *lämmity*, jäähdytys*, *jäähdytys* | fjärrvärme*, *fjärrvärme*, fjärrkyla*, uppvärmning*, *uppvärmning*
# EuroVoc: electrical and nuclear industries (electricity, electrical grid, electricity storage)
electricity and smart grids | 1 | electricity, power grid*, electricity grid*, smart grid*, energy storage, battery, batteries, demand response | sähkö, sähkön, sähköä, sähköverk*, *sähköverk*, älyverk*, energiavaras*, akku, akut, akku*, *akku, *akun | elektricitet*, elnät*, *elnät*, energilagring*, batteri*, *batteri*
# EuroVoc: energy (domain): the broad theme
energy | 0.6 | energy, fuel, fuels | energia*, *energia*, polttoaine*, *polttoaine* | energi*, *energi*, bränsle*, *bränsle*

@built environment
# EuroVoc: construction and town planning, building and public works

# EuroVoc: construction and town planning (town planning, land use)
urban planning | 1 | urban planning, town planning, city planning, land use, zoning, urban development | kaavoitu*, *kaavoitu*, asemakaava*, *asemakaava*, yleiskaava*, maankäyt*, *maankäyt*, kaupunkisuunnit*, *kaupunkisuunnit*, kaupunkikehit* | stadsplanering*, detaljplan*, översiktsplan*, markanvändning*, stadsutveckling*
# EuroVoc: building and public works (construction, renovation)
construction | 1 | construction, builder*, contractor*, renovation*, refurbishment | rakentami*, *rakentami*, rakentaj*, *rakentaj*, korjausrakent*, remont*, *remont*, saneerau*, *saneerau* | byggande*, byggbransch*, byggarbets*, renover*, *renovering*
# EuroVoc: construction and town planning (building); property management
buildings and property | 1 | building, buildings, property, properties, real estate, facility management, premises | kiinteistö*, *kiinteistö*, rakennus, rakennukse*, rakennuks*, *rakennus, *rakennukse*, toimitila*, *toimitila* | fastighet*, *fastighet*, byggnad*, *byggnad*, lokaler*
# EuroVoc: construction and town planning (housing, housing policy)
housing | 1 | housing, dwelling*, apartment*, flats, tenant*, rental housing | asumi*, *asumi*, asunto*, *asunto*, asunno*, *asunno*, vuokralai* | bostad*, *bostad*, bostäder*, hyresgäst*, lägenhet*, *lägenhet*
# EuroVoc: construction and town planning (public space); building and public works (street lighting)
streets and public spaces | 1 | street, streets, public space*, street lighting, playground* | katu, kadut, kadun, katuj*, *katu, *kadun, katuvalaist*, aukio*, *aukio*, leikkipuisto* | gata, gatan, gator*, *gata, *gatan, torg, torget, offentliga rum, gatubelysning*, lekplats*

@health and social services
# 6Aika focus area: health and wellbeing; EuroVoc: health, social protection, family

# EuroVoc: health (health care system, hospital, medical personnel)
health care | 1 | health care, healthcare, health service*, hospital*, clinic*, patient*, doctor*, nurse*, nursing, primary care | terveydenhuol*, *terveydenhuol*, terveyspalvel*, *terveyspalvel*, sairaala*, *sairaala*, terveysasem*, *terveysasem*, potila*, *potila*, lääkär*, *lääkär*, hoitaj*, *hoitaj*, sairaanhoi* | sjukvård*, *sjukvård*, hälsovård*, sjukhus*, *sjukhus*, vårdcentral*, patient*, läkare*, sjukskötersk*
# EuroVoc: social protection (care of the elderly, home help); demography (elderly person)
elderly care | 1 | elderly, older people, older adult*, seniors, senior citizen*, ageing, aging, elderly care, home care, care home*, nursing home* | ikäihmi*, *ikäihmi*, ikäänty*, *ikäänty*, vanhus*, *vanhus*, vanhukse*, vanhusten, seniori*, kotihoi*, *kotihoi*, hoivako*, *hoivako* | äldre, äldreomsorg*, *äldreomsorg*, hemvård*, *hemvård*, hemtjänst*, *hemtjänst*, pensionär*
# EuroVoc: social protection (social services, social work, child protection)
social services | 1 | social service*, social care, social work*, welfare, social security, social assistance, child protection | sosiaalipalvel*, *sosiaalipalvel*, sosiaalityö*, *sosiaalityö*, sosiaalihuol*, *sosiaalihuol*, toimeentulotu*, lastensuojel*, *lastensuojel* | socialtjänst*, *socialtjänst*, socialvård*, *socialvård*, socialt arbete, barnskydd*, barnavård*
# EuroVoc: health (mental health, drug addiction); social affairs (social isolation)
mental health and substance abuse | 1 | mental health, depression, anxiety, loneliness, substance abuse, addiction*, psychiatr* | mielenterv*, *mielenterv*, masennu*, *masennu*, ahdistu*, yksinäisyy*, *yksinäisyy*, päihde*, *päihde*, päihtei*, *päihtei*, riippuvuu* | psykisk hälsa, psykisk ohälsa, psykiatri*, depression*, ångest*, ensamhet*, missbruk*, *missbruk*
# 6Aika focus area: health and wellbeing; EuroVoc: social affairs (sport, leisure)
wellbeing and physical activity | 1 | wellbeing, well-being, physical activity, exercise, sport, sports, fitness | hyvinvoin*, *hyvinvoin*, liikunta*, *liikunta*, liikunna*, *liikunna*, urheilu*, *urheilu* | välbefinnande, välmående, motion, idrott*, *idrott*, fysisk aktivitet
# EuroVoc: family (child, parent, family)
families and children | 1 | child, children, childhood, family, families, parent, parents, parenting, baby, babies, infant* | lapsi, lapset, lapsen, lasten, lapsia, lapsi*, *lapsi, perhe*, *perhe*, perhee*, *perhee*, vanhemm*, vauva* | barn, barnen, barnens, familj*, *familj*, föräld*, *föräld*, bebis*, spädbarn*
# EuroVoc: demography and population (young person), social affairs (youth policy)
youth | 1 | youth, young people, adolescent*, teenager*, young adult* | nuori, nuoret, nuorten, nuoria, nuorille, nuoris*, *nuoris* | ungdom*, *ungdom*, unga, tonåring*
# EuroVoc: social affairs (disabled person, accessibility)
disability and accessibility | 1 | disability, disabilities, disabled, accessibility, impairment*, wheelchair*, assistive | vammai*, *vammai*, esteettöm*, *esteettöm*, saavutettavuu*, *saavutettavuu*, pyörätuol*, apuväline* | funktionsned*, *funktionsned*, funktionshind*, tillgänglighet*, rullstol*, hjälpmedel*
# EuroVoc: migration (immigration, integration of migrants, refugee)
immigration and integration | 1 | immigrant*, immigration, migrant*, refugee*, asylum, newcomer* | maahanmuut*, *maahanmuut*, kotoutu*, *kotoutu*, pakolai*, *pakolai*, turvapaik* | invandr*, *invandr*, nyanlän*, flykting*, *flykting*, asyl*

@education and culture
# 6Aika focus area: education; EuroVoc: education and communications, culture and religion

# EuroVoc: teaching (pre-school education)
early childhood education | 1 | early childhood, kindergarten*, daycare, day care, preschool*, pre-school | varhaiskasvat*, *varhaiskasvat*, päiväko*, *päiväko*, esiopet*, *esiopet* | förskol*, *förskol*, småbarnspedagog*, daghem*
# EuroVoc: teaching (primary and secondary education), organisation of teaching (school, pupil, teacher)
schools | 1 | school, schools, pupil*, classroom*, teacher*, primary school*, secondary school* | koulu, koulun, koulut, koulua, kouluss*, kouluj*, kouluihin, kouluun, perusopetu*, *perusopetu*, peruskoulu*, alakoulu*, yläkoulu*, lukio*, *lukio*, oppila*, *oppila*, opettaj*, *opettaj* | skola, skolan, skolor*, *skola, *skolan, elev, elever*, eleven, lärare*, *lärare, grundskol*, gymnasi*
# EuroVoc: teaching (vocational training, adult education, lifelong learning); 6Aika: employment and skills
vocational and adult education | 1 | vocational*, apprentice*, adult education, continuing education, lifelong learning, reskilling, upskilling, training, skills | ammatillin*, *ammatillin*, ammattiopisto*, oppisopimu*, aikuiskoulut*, täydennyskoulut*, koulutu*, koulutuks*, *koulutu*, *koulutuks*, osaami*, *osaami* | yrkesutbild*, *yrkesutbild*, vuxenutbild*, lärling*, fortbildning*, livslångt lärande, kompetens*, *kompetens*
# EuroVoc: teaching (higher education), research and intellectual property
higher education and research | 0.8 | university, universities, higher education, research, researcher*, polytechnic* | yliopisto*, *yliopisto*, korkeakoulu*, *korkeakoulu*, tutkimu*, *tutkimu*, tutkimuks*, tutkija* | universitet*, *universitet*, högskol*, *högskol*, forskning*, *forskning*, forskar*
# EuroVoc: education, teaching: the broad theme
learning and teaching | 0.7 | learning, learner*, teaching, education, educational, pedagog*, curriculum, student* | oppimi*, *oppimi*, opetu*, *opetu*, opiskel*, *opiskel*, pedagog*, kasvatu* | lärande, undervisning*, *undervisning*, utbildning*, *utbildning*, pedagog*, student*, studerand*
# EuroVoc: documentation (library); education (literacy)
libraries and literacy | 1 | library, libraries, librarian*, literacy, books | kirjasto*, *kirjasto*, lukutai*, *lukutai*, kirja, kirjat, kirjoja, kirjan | bibliotek*, *bibliotek*, läskunnighet*, läsförståelse*, bok, böcker*
# EuroVoc: culture and religion (culture, arts, museum, cultural heritage)
culture and arts | 1 | culture, cultural, arts, artist*, museum*, theatre*, theater*, music, musical, concert*, heritage | kulttuuri*, *kulttuuri*, taide*, *taide*, taitee*, *taitee*, taiteilij*, museo*, *museo*, teatteri*, *teatteri*, musiikki*, *musiikki*, konsert*, kulttuuriperin* | kultur*, *kultur*, konst, konsten, konstnär*, museum, museer*, teater*, musik*, konsert*
# EuroVoc: social affairs (tourism, leisure)
tourism and events | 1 | tourism, tourist*, visitor*, festival* | matkailu*, *matkailu*, matkailij*, turisti*, vierailij*, festivaali*, tapahtum*, *tapahtum* | turism*, *turism*, turist*, besökar*, festival*, evenemang*

@employment and business
# 6Aika focus areas: employment and skills, business growth; EuroVoc: employment and working conditions, business and competition

# EuroVoc: employment, labour market (unemployment, job seeker, recruitment)
employment | 1 | employment, unemployment, unemployed, job, jobs, jobseeker*, job seeker*, labour market, labor market, recruitment, recruiting, hiring | työllisyy*, *työllisyy*, työllist*, *työllist*, työttöm*, *työttöm*, työnhak*, *työnhak*, työpaik*, *työpaik*, rekrytoin*, *rekrytoin*, työmarkkin* | sysselsättning*, arbetslös*, *arbetslös*, arbetssökand*, jobb, jobbet, arbetsmarknad*, rekryter*
# EuroVoc: organisation of work and working conditions (working conditions, occupational health, occupational safety)
working conditions | 1 | working conditions, occupational health, occupational safety, workplace safety, work safety, ergonomic* | työolo*, työterveys*, *työterveys*, työturvallisuu*, työhyvinvoin*, *työhyvinvoin*, ergonom* | arbetsmiljö*, *arbetsmiljö*, arbetsvillkor*, företagshälsovård*, arbetarskydd*, ergonom*
# EuroVoc: business organisation (small and medium-sized enterprises, entrepreneur); 6Aika business growth
entrepreneurship and business growth | 1 | entrepreneur*, start-up*, startup*, small business*, sme, smes, business growth, business development | yrittäj*, *yrittäj*, yritystoimin*, kasvuyrity*, pk-yrity*, pienyrity* | företagar*, *företagar*, entreprenör*, nyföretag*, småföretag*, tillväxtföretag*
# EuroVoc: distributive trades (retail trade, shop), consumption (consumer)
retail and consumers | 1 | retail*, shops, shopping, stores, commerce, e-commerce, consumer* | vähittäiskaup*, kauppa, kaupan, kaupat, kauppoj*, myymälä*, *myymälä*, liiketila*, *liiketila*, verkkokaup*, kuluttaj*, *kuluttaj* | handel, handeln, detaljhandel*, butik*, *butik, e-handel*, konsument*

@digital and data
# 6Aika platforms: open data and interfaces, open innovation platforms; EuroVoc: information technology and data processing, information and information processing, communications

# 6Aika platform: open data and interfaces; EuroVoc: information and information processing (open data), (interoperability)
open data and interfaces | 1 | open data, api, apis, interface*, interoperab*, data sharing, open source | avoi* data*, avoi* tie[dt]*, rajapin*, *rajapin*, avoi* lähdekoo*, yhteentoimiv* | öppna data, öppen data, gränssnitt*, öppen källkod
# EuroVoc: information and information processing (data collection, statistics) (database)
data and analytics | 0.6 | data, analytics, dataset*, database*, statistic*, dashboard*, visualisation*, visualization* | dataa, datan, *data, analytiik*, *analytiik*, tietokan*, *tietokan*, tilasto*, *tilasto*, tietoaineisto* | datan, analys*, statistik*, databas*
# EuroVoc: information technology and data processing (artificial intelligence)
artificial intelligence | 1 | artificial intelligence, ai, machine learning, deep learning, neural network*, computer vision, language model*, chatbot* | tekoäly*, *tekoäly*, koneoppi*, *koneoppi*, konenäkö*, keskustelubot* | artificiell intelligens, maskininlärning*, *maskininlärning*, chattbot*
# EuroVoc: information technology and data processing (sensor, internet of things)
sensors and internet of things | 1 | sensor*, iot, internet of things, smart meter*, telemetry | anturi*, *anturi*, sensori*, *sensori*, esineiden internet* | sensor*, *sensor*, sakernas internet
# EuroVoc: information technology and data processing (digital technology, software, e-government service)
digital services | 0.6 | digital, digitalisation, digitalization, app, apps, mobile app*, platform*, software, online service*, e-service* | digitaa*, *digitaa*, digitali*, sovellu*, *sovellu*, alusta, alustan, alustat, alusto*, *alusta, ohjelmisto*, *ohjelmisto*, verkkopalvel*, *verkkopalvel* | digital*, *digital*, app, appar*, appen, plattform*, *plattform*, programvar*, e-tjänst*
# EuroVoc: information technology and data processing (data protection, computer security)
cybersecurity and privacy | 1 | cybersecurity, cyber security, information security, data protection, privacy, gdpr | kyberturva*, *kyberturva*, tietoturva*, *tietoturva*, tietosuoja*, *tietosuoja* | cybersäkerhet*, informationssäkerhet*, dataskydd*, integritetsskydd*
# EuroVoc: information technology and data processing (geographic information system)
maps and geographic information | 1 | gis, geographic information, geospatial, map, maps, 3d model*, digital twin*, positioning, gps | paikkatie*, *paikkatie*, kartta*, *kartta*, digitaalinen kaksonen, digikaksos*, paikanta*, *paikanta* | geodata*, *geodata*, karta, kartan, kartor*, digital tvilling*, positionering*
# EuroVoc: communications (telecommunications, broadband network)
telecommunications and connectivity | 0.8 | broadband, 5g, connectivity, mobile network*, wifi, wi-fi, telecommunication* | laajakaist*, *laajakaist*, 5g, tietoliiken*, *tietoliiken*, mobiiliverk* | bredband*, *bredband*, telekommunikation*, mobilnät*
# 6Aika platform: open innovation platforms (piloting, testbeds, living labs)
innovation and piloting | 0.6 | innovation*, innovative, pilot, pilots, piloting, experiment*, testbed*, living lab* | innovaatio*, *innovaatio*, kokeilu*, *kokeilu*, pilotoi*, pilotti*, *pilotti*, testiympäristö*, *testiympäristö* | innovation*, pilot*, försöksverksamhet*, testbädd*

@participation and public administration
# 6Aika platform: open participation and customership; EuroVoc: politics (executive power and public service, politics and public safety)

# 6Aika platform: open participation; EuroVoc: political framework (citizen participation)
citizen participation | 1 | participation, citizen engagement, resident engagement, co-creation, co-design, participatory budgeting | osallisuu*, *osallisuu*, osallistami*, *osallistami*, yhteiskehit*, asukasosallis*, osallistuva budjetointi | delaktighet*, medborgardialog*, invånardialog*, medskapande, samskapande
# 6Aika platform: open customership (customer experience, service design)
customer experience and service design | 1 | customer experience, user experience, service design, user-centred, user-centered, customer journey*, usability, customer feedback | asiakaskokemu*, *asiakaskokemu*, käyttäjäkokemu*, palvelumuotoil*, *palvelumuotoil*, käytettävyy*, asiakaspalaut* | kundupplevelse*, användarupplevelse*, tjänstedesign*, användbarhet*
# EuroVoc: executive power and public service (public administration, local authority), trade policy (public procurement), sources and branches of the law (legislation)
public administration | 0.7 | public administration, municipality, municipalities, municipal, public sector, public service*, public procurement, procurement, legislation, regulation | julkishallin*, *julkishallin*, kunta, kunnan, kunnat, kuntien, kunnallis*, hallinto*, *hallinto*, hankinta*, *hankinta*, hankinnat, *hankinnat, julkinen sektori, julkisen sektorin, lainsäädän*, sääntel* | offentlig förvaltning, kommun, kommunen, kommuner*, kommunal*, *kommun, förvaltning*, *förvaltning*, upphandling*, *upphandling*, lagstiftning*, reglering*
# EuroVoc: politics and public safety (public safety, civil defence, crime); rescue services
public safety and emergency preparedness | 1 | public safety, emergency, emergencies, rescue, fire safety, crime, preparedness, crisis, civil defence | turvallisuu*, *turvallisuu*, pelastu*, *pelastu*, hätäti*, hätäkesku*, rikollisuu*, varautumi*, *varautumi*, kriisi* | säkerhet, trygghet*, räddning*, *räddning*, nödläge*, brottslighet*, beredskap*, kris, krisen, kriser*

@food and agriculture
# EuroVoc: agriculture, forestry and fisheries, agri-foodstuffs, health (nutrition)

# EuroVoc: agri-foodstuffs (foodstuff, catering), health (nutrition)
food and nutrition | 1 | food, foods, nutrition, nutritional, meal, meals, diet, dietary, catering, food waste | ruoka*, *ruoka*, ruoa*, ruua*, *ruoan, ravitsemu*, *ravitsemu*, ateri*, ruokavalio*, ruokapalvel* | mat, maten, livsmedel*, *livsmedel*, nutrition, måltid*, *måltid*, kost, kosten
# EuroVoc: agricultural structures and production, forestry
agriculture and forestry | 1 | agriculture, agricultural, farm, farms, farming, farmer*, forestry, crop, crops, livestock | maatalou*, *maatalou*, maanviljel*, viljel*, *viljel*, maatila*, *maatila*, metsätalou*, *metsätalou*, kotieläin* | jordbruk*, *jordbruk*, lantbruk*, *lantbruk*, odling*, *odling*, skogsbruk*, *skogsbruk*
"""
